# No shell: os.system fails with a clear exception.
import os

os.system("ls")
