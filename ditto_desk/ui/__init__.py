"""The Qt face of ditto-desk: thin widgets over the core, with background work through ditto_desk.workers."""
