from hybridtls._cli import entry_point

entry_point()
