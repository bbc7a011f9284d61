//! Unit tests of the importers on files made here from the specs.
