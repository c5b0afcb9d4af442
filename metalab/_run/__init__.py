"""Running sweeps: the results directory (`store`) and `metalab.run` over executors (`runner`)."""
