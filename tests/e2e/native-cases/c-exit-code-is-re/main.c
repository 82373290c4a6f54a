#include <stdio.h>
int main(void) { fprintf(stderr, "bad things\n"); return 3; }
