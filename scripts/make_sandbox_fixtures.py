"""Writes test/fixtures/sandbox/: pickles whose load tries to escape or exhaust the sandbox.

test/sandbox-detonation.test.ts loads them inside bubblewrap and checks, from the host, that nothing
got out. Payloads are harmless by design: they target marker paths and a loopback port the test owns.
Run by hand with any Python 3 (stdlib only): python3 scripts/make_sandbox_fixtures.py
"""
import io
import os
import pickle
import socket
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "sandbox"

# Paths and the port the test checks on the host. Outside /tmp and home: the jail's private mounts
# would hide a write there from the host even without the read-only root.
HOST_MARKER = "/var/tmp/modelgate-sandbox-escape-marker"
HOST_SECRET = "/var/tmp/modelgate-sandbox-secret"
LOOPBACK_PORT = 47193
# A command line the test looks for among the host's processes after the load.
ORPHAN_SLEEP = "sleep 987654"


class Call:
    """Pickles as `func(*args)`: the load calls it."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


READ_SECRETS = f"""
import os
for path in ["{HOST_SECRET}", os.path.expanduser("~/.ssh/id_rsa"), "/root/.ssh/id_rsa", "/etc/shadow"]:
    try:
        print("stolen:", open(path).read())
    except OSError:
        pass
"""

FIXTURES = {
    # Writes a file outside /tmp: the root is read-only and not the host's anyway.
    "escape_write_host.pkl": Call(io.open, HOST_MARKER, "w"),
    # Connects to a port the test listens on, on the host's loopback: the jail has its own, empty network.
    "escape_network.pkl": Call(socket.create_connection, ("127.0.0.1", LOOPBACK_PORT), 2),
    # Reads keys and a secret the test put on the host: none of them is in the jail.
    "escape_read_secrets.pkl": Call(exec, READ_SECRETS),
    # Leaves a process behind: the PID namespace ends with the load and takes it along.
    "escape_orphan_process.pkl": Call(os.system, f"{ORPHAN_SLEEP} &"),
    # Sleeps far past any time limit.
    "bomb_sleep.pkl": Call(time.sleep, 3600),
    # Spins the CPU.
    "bomb_cpu.pkl": Call(exec, "while True:\n    pass\n"),
    # Allocates until the address-space limit stops it.
    "bomb_memory.pkl": Call(exec, "hog = []\nwhile True:\n    hog.append(bytearray(64 << 20))\n"),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, payload in FIXTURES.items():
        (OUT / name).write_bytes(pickle.dumps(payload, protocol=4))
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
