// JSON nested a million deep: the parser must fail cleanly.
JSON.parse("[".repeat(1000000) + "]".repeat(1000000));
