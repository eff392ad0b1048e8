"""What tests and benchmarks share: factories, the fixed world, the database clock, strict fakes
of the providers and the stacks' settings. Installed with the dev extra only; a test imports from
here, never from another test module or a conftest."""
