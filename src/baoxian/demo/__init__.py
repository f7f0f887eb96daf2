"""Demo data (演示数据): deterministic synthetic customers and risks for demos and benchmarks."""
