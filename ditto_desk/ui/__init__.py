"""The Qt face of ditto-desk: thin widgets over the core; background work goes through ditto_desk.bridge."""
