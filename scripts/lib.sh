# lib.sh — shell helpers shared by scripts/test.sh, tests/bench/run.sh and tests/browser/run.sh
# (sourced from the repository root). Nothing here starts or signals a process.

# Prints a loopback port nobody listens on (bash's /dev/tcp: a refused connect means free);
# returns 1 after 50 tries.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
