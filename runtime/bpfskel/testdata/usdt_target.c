// usdt_target: the user-space program of the runtime's USDT and uprobe
// tests (usdt_test.go). `make objects` rebuilds it with the pinned clang,
// reproducibly, and the binary is committed, so the tests need no C
// compiler. It is not stripped: the uprobe test attaches to a symbol.
//
// usdt_target N [wait]: with "wait", read one byte from stdin first (so a
// test can attach to this process by PID before the probes fire); then fire
// each probe N times and print how often the semaphore-guarded probe was
// enabled. The probes (provider bpfskel) take their arguments as the
// compiler places them: registers, a stack slot, constants.

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/sdt.h>

// The semaphore-guarded probe lives in usdt_target_sema.c: sys/sdt.h gives
// every probe of a file a semaphore or none.
int fire_sema(int i);

// volatile: the compiler cannot fold the values into constants, so the
// register probe gets register operands.
volatile int seed = 7;

__attribute__((noinline)) int bpfskel_add(int a, int b)
{
	// The asm keeps the call from being folded away.
	__asm__ volatile("" : : "r"(a), "r"(b));
	return a + b;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int sema = 0;

	if (argc > 2) {
		char c;
		if (read(0, &c, 1) != 1)
			return 2;
	}
	for (int i = 0; i < n; i++) {
		int a = seed + i;                      // 7+i
		long b = -5000000000L * (seed - 6);     // -5000000000
		unsigned char c = (unsigned char)(seed * 36 + i); // 252+i (mod 256)
		volatile long m = -1234567890123L - i; // a stack slot

		STAP_PROBE3(bpfskel, reg, a, b, c);
		STAP_PROBE1(bpfskel, mem, m);
		STAP_PROBE2(bpfskel, konst, 42, -7);
		bpfskel_add(a, 35);
		sema += fire_sema(i);
	}
	printf("sema=%d\n", sema);
	return 0;
}
