"""In-memory implementations of every port, one module per capability, for the unit tests, the
benchmarks and the demo: each keeps the contract of the adapter it stands in for."""
