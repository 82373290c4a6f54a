// Recursion that passes through a native builtin on every level (a C frame
// of the engine between two JavaScript ones): RE, and the host must not
// notice.
const down = () => [0].forEach(down);
down();
