// Release-build benchmarks: `swift run -c release EPBBench <suite> [options]`.
// Each suite lives in its own file; add a case here for a new one.

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "planner":
  runPlannerBench(Array(arguments.dropFirst()))
case "ingest":
  runIngestBench(Array(arguments.dropFirst()))
case "ingest-parse":
  runIngestParseBench(arguments: Array(arguments.dropFirst()))
case "backtest":
  runBacktestBench(arguments: Array(arguments.dropFirst()))
case "robust":
  runRobustBench(Array(arguments.dropFirst()))
case "store":
  runStoreBench(Array(arguments.dropFirst()))
case "peers":
  runRobustBench(Array(arguments.dropFirst()) + ["--peers"])
default:
  print(
    """
    usage: EPBBench <suite> [options]
    suites:
      planner [--input FILE] [--reps N] [--json]   time Planner.plan on 58-layer DeepSeek-V3 shapes
      ingest [--steps 2000] [--layers 58] [--experts 256] [--reps 3]
                                                   end-to-end ingest of .npy and vLLM JSON, database size,
                                                   window aggregate, Python json.load for comparison
      ingest-parse [--steps N] [--runs N]          parse-only throughput of each format
      backtest                                     a 2,000-step 58x256 simulated series, plan every 100,
                                                   three configurations, end to end
      store [--postgres URL] [--steps 2000] [--window 1000] [--reps 5]
                                                   ingest of a .npy trace, the window aggregate and the size
                                                   on disk, SQLite and (with the trait Postgres) PostgreSQL
      peers [--steps 1000] [--reps 30]             the same for deepseek and the four peers
      robust [--steps 1000] [--reps 30]            Planner.plan with the robust algorithm on a simulated
                                                   window and its block scenarios, 58 layers
    """)
}
