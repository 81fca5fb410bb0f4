// Pins Kueue, whose CRDs (config/components/crd/bases) the queueing tests install: the operator
// reads the Workloads Kueue makes for its Jobs. Only the CRDs are used; Kueue's controller is not
// built (the tests play Kueue: they create the Workload and admit, queue and evict it).
module tara.dev/testcluster/kueue

go 1.26.0

require sigs.k8s.io/kueue v0.17.0
