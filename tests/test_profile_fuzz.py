"""The profile loader fed random and adversarial files: whatever is on disk, loading a profile either
works or raises a ProfileError that says what is wrong; never anything else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.store import ProfileStore

FILES = ("profile.json", "demonstrations.json", "settings.json")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
# Plausible shapes too: the real keys with wrong values, so the checks beyond "is it JSON" are reached.
profile_like = st.fixed_dictionaries(
    {},
    optional={
        "format": json_values,
        "name": json_values,
        "created": json_values,
        "active_adapter": json_values,
        "demonstrations": json_values,
    },
)
demos_like = st.lists(
    st.fixed_dictionaries({}, optional={"text": json_values, "prompt": json_values, "id": json_values}), max_size=3
)
contents = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    profile_like.map(lambda v: json.dumps(v).encode()),
    demos_like.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(FILES), data=contents)
def test_any_profile_file_loads_or_says_what_is_wrong(which: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        store = ProfileStore(Path(root))
        store.create("me")
        (Path(root) / "me" / which).write_bytes(data)
        try:
            profile = store.load("me")
        except ProfileError as error:
            assert str(error)
            return
        assert isinstance(profile.demonstrations, list)
        assert store.list() == ["me"]
