// Unbounded recursion: the engine must end it as an error, not crash the host.
function down(n) {
  return down(n + 1) + 1;
}
down(0);
