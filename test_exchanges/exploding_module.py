raise RuntimeError("this module must never be imported by the factory tests")
