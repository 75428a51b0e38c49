// Release-build benchmarks: `swift run -c release EPBBench <suite> [options]`.
// Each suite lives in its own file; add a case here for a new one.

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "planner":
  runPlannerBench(Array(arguments.dropFirst()))
default:
  print(
    """
    usage: EPBBench <suite> [options]
    suites:
      planner [--input FILE] [--reps N] [--json]   time Planner.plan on 58-layer DeepSeek-V3 shapes
    """)
}
