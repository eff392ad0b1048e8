"""What tests and benchmarks share: factories, the fixed world, the database clock, provider
events, strict fakes of the providers and the stacks' settings. Not installed (tests and
benchmarks import it from the checkout); a test imports from here, never from another test
module or a conftest."""
