"""Names from the cloud stay inside the tree (issue 11, defects 7 and 9): every cloud string that
becomes a file name or a link target is encoded by one rule (docs/SEMANTICS.md, "Names"), and a
hostile one cannot break a listing or point a link outside the mount."""

import errno
import os

import pytest

from mountutil import read

EVIL_VOLUME_IDS = ["a/b", "../../..", "..", "%2F", "x\u0000y"]


def first_server(fake):
    return sorted(fake.state()["servers"], key=lambda s: s["id"])[0]


def test_attached_volume_ids_are_encoded_and_links_stay_inside(mnt, fake):
    srv = first_server(fake)
    fake.update("servers", srv["id"], {"os-extended-volumes:volumes_attached":
                                       [{"id": v} for v in EVIL_VOLUME_IDS]})
    vols = mnt.p("servers", srv["id"], "volumes")
    # An id with a NUL byte is no id (it could not be looked up): not listed.
    assert sorted(os.listdir(vols)) == sorted(["a%2Fb", "..%2F..%2F..", "%2E%2E", "%252F"])
    root = os.path.realpath(mnt.path)
    for name in os.listdir(vols):
        target = os.readlink(os.path.join(vols, name))
        assert target.startswith("../../../volumes/"), target
        assert ".." not in target[len("../../../volumes/"):].split("/"), target
        # Resolved lexically from where the link is, it names a volume directory.
        where = os.path.normpath(os.path.join(vols, target))
        assert os.path.dirname(where) == os.path.join(root, "volumes"), where
        assert os.lstat(os.path.join(vols, name)).st_size == len(target)


def test_a_name_holding_nul_does_not_fail_the_listing(mnt, fake):
    servers = sorted(s["id"] for s in fake.state()["servers"])
    srv = first_server(fake)
    fake.update("servers", srv["id"], {"name": "evil\u0000name"})
    assert sorted(os.listdir(mnt.p("servers"))) == servers
    # Its name link is the name encoded: NUL -> %00.
    assert os.readlink(mnt.p("servers", "evil%00name")) == srv["id"]
    assert read(mnt.p("servers", "evil%00name", "status")).strip() == srv["status"]
    # The name file holds the bytes the cloud sent.
    with open(mnt.p("servers", srv["id"], "name"), "rb") as f:
        assert f.read() == b"evil\x00name\n"
    # The truncated name is not the member's.
    assert not os.path.lexists(mnt.p("servers", "evil"))


def test_a_non_utf8_name_is_einval_with_the_reason(mnt):
    path = os.fsencode(mnt.p("servers")) + b"/bad\xffname"
    with pytest.raises(OSError) as e:
        with open(path, "wb") as f:
            f.write(b'{"image": "cirros", "flavor": "m1.tiny"}')
    assert e.value.errno == errno.EINVAL
    with open(mnt.p(".cloudfs", "errors"), "rb") as f:
        assert b"bad\xffname: a name must be UTF-8" in f.read()
