# No processes: subprocess.run fails with a clear exception.
import subprocess

subprocess.run(["ls"])
