// Any precision within 1e-6 passes (validator_flags: float_tolerance 1e-6).
const n = Number(readline());
const xs = readline().split(' ').slice(0, n).map(Number);
print((xs.reduce((a, b) => a + b, 0) / n).toFixed(7));
