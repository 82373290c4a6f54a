// stderr counts against the output limit as stdout does.
while (true) console.error("x".repeat(1000));
