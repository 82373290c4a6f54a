# No network: every name lookup is denied (even of a numeric address), so
# connecting fails with socket.gaierror.
import socket

socket.create_connection(("1.1.1.1", 80), timeout=1)
