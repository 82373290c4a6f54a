// Keeps every buffer alive until memory runs out.
const keep = [];
for (;;) keep.push(new Float64Array(1 << 20));
