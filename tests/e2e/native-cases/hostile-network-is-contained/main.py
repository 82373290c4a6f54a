# Tries to reach the network; AC = every attempt failed.
import os, socket, sys

found = []
interfaces = sorted(os.listdir("/sys/class/net"))
if interfaces != ["lo"]:
    found.append(f"interfaces {interfaces}")
for host, port in [("8.8.8.8", 53), ("172.17.0.1", 2375), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        found.append(f"connected to {host}:{port}")
    except OSError:
        pass
try:
    socket.getaddrinfo("deb.debian.org", 80)
    found.append("DNS works")
except OSError:
    pass
if found:
    print("ESCAPED:", found)
else:
    a, b = map(int, sys.stdin.read().split())
    print(a + b)
