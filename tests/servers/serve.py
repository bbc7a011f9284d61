"""Runs a throw-away privacyIDEA or eduMFA for authcore's interop tests (started by
tests/src/server.rs).

    python serve.py --server privacyidea|edumfa --parent-pid PID --port PORT
                    [--remove-when-orphaned DIR]

with the server's config file variable (PRIVACYIDEA_CONFIGFILE or EDUMFA_CONFIGFILE) pointing at
the test config and AUTHCORE_SERVER_ADMIN_PASSWORD holding the admin password (in the
environment, not on the command line other users can read with ps). In one Python process (each
separate management call spends about 3 s importing the server) it runs the management commands

    privacyIDEA (pi-manage):      setup create_enckey / setup create_audit_keys /
                                  setup create_tables / admin add admin -p PW /
                                  run -h 127.0.0.1 -p PORT --no-reload
    eduMFA (edumfa-manage -q):    create_enckey / create_audit_keys / create_tables /
                                  admin add admin -p PW /
                                  runserver -h 127.0.0.1 -p PORT --no-reload

eduMFA is a fork of privacyIDEA: its commands are privacyIDEA's older, flat ones.

It exits as soon as PID (the test process) is gone, however it died: a watchdog thread compares
the parent pid every 0.2 s and ends this process (and with it the server's threads) when it changed,
after removing the --remove-when-orphaned directory the test process can no longer remove.
The test process cannot be trusted to clean up after a panic or a kill -9.
"""

import argparse
import importlib
import os
import shutil
import sys
import threading
import time

# Per server: the config file variable, the management CLI (module, attribute), the program name
# in its messages, arguments before every command, the setup commands (PW: the admin password)
# and the serving command (PORT: the port).
SERVERS = {
    "privacyidea": {
        "config_var": "PRIVACYIDEA_CONFIGFILE",
        "cli": ("privacyidea.cli.pimanage", "cli"),
        "prog": "pi-manage",
        "global": [],
        "setup": [
            ["setup", "create_enckey"],
            ["setup", "create_audit_keys"],
            ["setup", "create_tables"],
            ["admin", "add", "admin", "-p", "PW"],
        ],
        "run": ["run", "-h", "127.0.0.1", "-p", "PORT", "--no-reload"],
    },
    "edumfa": {
        "config_var": "EDUMFA_CONFIGFILE",
        "cli": ("edumfa.commands.manage.main", "cli"),
        "prog": "edumfa-manage",
        # -q: no ASCII-art banner before each command.
        "global": ["-q"],
        "setup": [
            ["create_enckey"],
            ["create_audit_keys"],
            ["create_tables"],
            ["admin", "add", "admin", "-p", "PW"],
        ],
        "run": ["runserver", "-h", "127.0.0.1", "-p", "PORT", "--no-reload"],
    },
}


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


def manage(cli, prog, args, secret=None):
    """Runs one management command in this process; raises if it fails. `secret` is replaced by
    *** in what is printed."""
    shown = ["***" if secret is not None and a == secret else a for a in args]
    print(f"serve.py: {prog} " + " ".join(shown), flush=True)
    result = cli.main(list(args), prog_name=prog, standalone_mode=False)
    if isinstance(result, int) and result != 0:
        raise SystemExit(f"serve.py: {prog} {' '.join(shown)} exited with {result}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=sorted(SERVERS), required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--remove-when-orphaned", metavar="DIR",
                        help="the server's temporary directory, removed if the parent dies")
    opts = parser.parse_args()
    server = SERVERS[opts.server]

    if os.getppid() != opts.parent_pid:
        sys.exit("serve.py: the parent process is already gone")
    threading.Thread(target=watch_parent, args=(opts.parent_pid, opts.remove_when_orphaned),
                     daemon=True).start()
    if server["config_var"] not in os.environ:
        sys.exit(f"serve.py: {server['config_var']} is not set")
    admin_password = os.environ.pop("AUTHCORE_SERVER_ADMIN_PASSWORD", "")
    if not admin_password:
        sys.exit("serve.py: AUTHCORE_SERVER_ADMIN_PASSWORD is not set")

    module, attribute = server["cli"]
    cli = getattr(importlib.import_module(module), attribute)
    fill = {"PW": admin_password, "PORT": str(opts.port)}

    def command(template):
        return server["global"] + [fill.get(a, a) for a in template]

    for template in server["setup"]:
        manage(cli, server["prog"], command(template), secret=admin_password)
    if opts.setup_only:
        return
    print(f"serve.py: setup done, serving on 127.0.0.1:{opts.port}", flush=True)
    manage(cli, server["prog"], command(server["run"]))
    sys.exit("serve.py: the server stopped on its own")


if __name__ == "__main__":
    main()
