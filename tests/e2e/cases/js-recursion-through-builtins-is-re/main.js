// Recursion that passes through a native builtin on every level: boa's own
// recursion limit does not see it, so the plugin's shadow stack runs out
// (a trap in the guest, RE); the host must not notice.
const down = () => [0].forEach(down);
down();
