// JSON nested a million deep: the parser must fail cleanly (its native
// frames run out before QuickJS's own limit: the host's "stack overflow").
JSON.parse("[".repeat(1000000) + "]".repeat(1000000));
