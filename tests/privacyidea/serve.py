"""Runs a throw-away privacyIDEA for authcore's interop tests (started by tests/src/privacyidea.rs).

    python serve.py --parent-pid PID --port PORT [--remove-when-orphaned DIR]

with PRIVACYIDEA_CONFIGFILE pointing at the test config and AUTHCORE_PI_ADMIN_PASSWORD holding the
admin password (in the environment, not on the command line other users can read with ps). In one Python process (each separate
`pi-manage` call spends about 3 s importing privacyIDEA) it runs the `pi-manage` commands

    setup create_enckey / setup create_audit_keys / setup create_tables / admin add admin -p PW
    run -h 127.0.0.1 -p PORT --no-reload

and exits as soon as PID (the test process) is gone, however it died: a watchdog thread compares
the parent pid every 0.2 s and ends this process (and with it the server's threads) when it changed,
after removing the --remove-when-orphaned directory the test process can no longer remove.
The test process cannot be trusted to clean up after a panic or a kill -9.
"""

import argparse
import os
import shutil
import sys
import threading
import time


def watch_parent(parent_pid, workdir):
    while True:
        if os.getppid() != parent_pid:
            # The test process died without stopping us, so it did not remove the server's
            # directory either (config, keys, database): do it here.
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            # The server is a thread of this process: leaving the process stops it. os._exit skips
            # interpreter shutdown, which would wait for the server's non-daemon threads.
            os._exit(3)
        time.sleep(0.2)


def pi_manage(cli, *args):
    """Runs one `pi-manage` command in this process; raises if it fails."""
    shown = ["***" if i > 0 and args[i - 1] == "-p" and args[0] == "admin" else a
             for i, a in enumerate(args)]
    print("serve.py: pi-manage " + " ".join(shown), flush=True)
    result = cli.main(list(args), prog_name="pi-manage", standalone_mode=False)
    if isinstance(result, int) and result != 0:
        raise SystemExit(f"serve.py: pi-manage {args[0]} {args[1]} exited with {result}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--remove-when-orphaned", metavar="DIR",
                        help="the server's temporary directory, removed if the parent dies")
    opts = parser.parse_args()

    if os.getppid() != opts.parent_pid:
        sys.exit("serve.py: the parent process is already gone")
    threading.Thread(target=watch_parent, args=(opts.parent_pid, opts.remove_when_orphaned), daemon=True).start()
    if "PRIVACYIDEA_CONFIGFILE" not in os.environ:
        sys.exit("serve.py: PRIVACYIDEA_CONFIGFILE is not set")
    admin_password = os.environ.pop("AUTHCORE_PI_ADMIN_PASSWORD", "")
    if not admin_password:
        sys.exit("serve.py: AUTHCORE_PI_ADMIN_PASSWORD is not set")

    from privacyidea.cli.pimanage import cli

    pi_manage(cli, "setup", "create_enckey")
    pi_manage(cli, "setup", "create_audit_keys")
    pi_manage(cli, "setup", "create_tables")
    pi_manage(cli, "admin", "add", "admin", "-p", admin_password)
    if opts.setup_only:
        return
    print(f"serve.py: setup done, serving on 127.0.0.1:{opts.port}", flush=True)
    pi_manage(cli, "run", "-h", "127.0.0.1", "-p", str(opts.port), "--no-reload")
    sys.exit("serve.py: the server stopped on its own")


if __name__ == "__main__":
    main()
