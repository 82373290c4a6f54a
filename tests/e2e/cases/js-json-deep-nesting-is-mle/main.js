// JSON nested a million deep: the parser must fail cleanly. Its frames fit
// the stacks (a level of it is small), so the arrays it builds run into the
// 64 MiB memory cap first: MLE, the host unharmed.
JSON.parse("[".repeat(1000000) + "]".repeat(1000000));
