"""Exchange with other tools: NIR (the Neuromorphic Intermediate Representation) in and out.

options      how to read a .nir file (ImportOptions), without importing nir
snn_text     writing .snn programs with exact numbers, files written atomically
nir_graph    reading a .nir file into neurons and the weighted paths between them
nir_neurons  the mapping of NIR neuron nodes onto snnc models (and back), docs/interop.md
nir_import   NIR graph -> a readable .snn program with .npy weights (`snnc import`)
nir_export   compiled program -> NIR graph (`snnc export --nir`)
nir_source   `.nir` files given to snnc.compile, train and run

The CLI's `import` and `export` (snnc/cli/) call nir_import and nir_export. Layers: the API and the CLI
import this package; it imports the runtime and the compiler, never the API or the CLI.
"""
