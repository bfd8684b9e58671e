"""The built-in signature set (data only): vendors/, yara/, policies/.

Installed as provenance.signatures."""
