# No network: every address is denied, so connecting fails clearly.
import socket

socket.create_connection(("1.1.1.1", 80), timeout=1)
