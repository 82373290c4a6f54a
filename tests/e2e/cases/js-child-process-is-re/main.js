// No processes in the sandbox: a clear error, not a crash.
require('child_process').execSync('cat /etc/passwd');
