# Looks for what a submission must never see: the host's secrets, the
# supervisor's channel, the answer files, the host's environment.
# AC = nothing was found.
import os, sys

found = []
for path in ["/etc/shadow", "/proc/1/environ", "/proc/1/fd/0", "/proc/1/mem", "/var/run/docker.sock"]:
    try:
        with open(path, "rb") as f:
            f.read(1)
        found.append(path)
    except OSError:
        pass
for top in ["/"]:
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
        for name in files:
            if name in ("1.out", "2.out", "1.in", "2.in", "problem.toml"):
                found.append(os.path.join(root, name))
allowed = {"PATH", "LANG", "HOME", "TMPDIR", "LC_CTYPE"}
found += [f"env {k}" for k in os.environ if k not in allowed]
if os.getuid() == 0:
    found.append("running as root")
if found:
    print("ESCAPED:", found)
else:
    a, b = map(int, sys.stdin.read().split())
    print(a + b)
