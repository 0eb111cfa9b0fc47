"""The typed graph IR: nodes and their vocabularies (neurons, encoders, readouts, connectivity, training),
the graph wrapper and its serializer."""
