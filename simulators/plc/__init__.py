"""PLC faces of the simulated line: OPC UA server, Sparkplug B edge node, Modbus TCP server."""
