// Fixtures run one after another: the fault suite drops and restarts connections and servers, and the
// machines this runs on have two cores; parallel fixtures would only make each other's timings noisy.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
