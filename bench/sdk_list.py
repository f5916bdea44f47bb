#!/usr/bin/python3
"""bench/sdk_list.py -- the SDK baseline of bench/run.sh: every server's id and status.

    sdk_list.py [--reuse-token] sdk      # openstack.connect().compute.servers(): "id status" lines
    sdk_list.py [--reuse-token] cli ARGS # the openstack CLI (openstackclient's main) with ARGS

--reuse-token: keystoneauth re-authenticates whenever its token expires within
MIN_TOKEN_LIFE_SECONDS (120 s). devcloud's tokens live 120 s (so that the e2e tests see
cloudfs renew its own), so without this every call re-authenticates first, which a
cloud with normal (1 h) tokens never does. This sets that margin to 10 s: the token is
reused as it would be with normal-lifetime tokens. Credentials come from the
environment (OS_* or OS_CLOUD), as for the CLI.
"""
import sys


def main():
    args = sys.argv[1:]
    if args and args[0] == "--reuse-token":
        from keystoneauth1.identity import base
        base.BaseIdentityPlugin.MIN_TOKEN_LIFE_SECONDS = 10
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    if args[0] == "sdk":
        import openstack
        conn = openstack.connect()
        out = sys.stdout
        for s in conn.compute.servers():
            out.write(f"{s.id} {s.status}\n")
        return 0
    if args[0] == "cli":
        from openstackclient.shell import main as cli_main
        return cli_main(args[1:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
