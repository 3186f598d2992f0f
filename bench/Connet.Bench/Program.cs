using System.Globalization;
using Connet.Bench;

string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
int megabytes = (int)ReadOption(args, "--megabytes", 256);
int connections = (int)ReadOption(args, "--connections", 200);
int pathsIndex = Array.IndexOf(args, "--paths");
string[] pathNames = pathsIndex >= 0 && pathsIndex + 1 < args.Length ? args[pathsIndex + 1].Split(',') : ["direct", "relay"];
TunnelPath?[] paths = [.. pathNames.Select(name => TunnelPath.All.FirstOrDefault(path => path.Name == name))];
if (mode is not ("throughput" or "latency" or "all") || megabytes <= 0 || connections <= 0 || paths.Any(path => path is null))
{
    Console.Error.WriteLine($"usage: Connet.Bench [throughput|latency|all] [--megabytes N] [--connections N] [--paths {string.Join(',', TunnelPath.All.Select(path => path.Name))}]");
    return 2;
}

// Bounds the whole run, setup and teardown included, so a stuck tunnel ends the process instead of hanging it.
using var whole = new CancellationTokenSource(TimeSpan.FromMinutes(5 * paths.Length));
foreach (TunnelPath path in paths.OfType<TunnelPath>())
{
    await using var tunnel = await TunnelKit.StartAsync(path, whole.Token);
    if (mode is "throughput" or "all")
    {
        await TunnelBenchmarks.ThroughputAsync(tunnel, (long)megabytes * 1024 * 1024, whole.Token);
    }

    if (mode is "latency" or "all")
    {
        await TunnelBenchmarks.LatencyAsync(tunnel, connections, whole.Token);
    }
}

return 0;

static double ReadOption(string[] args, string name, double fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length
        ? double.Parse(args[index + 1], CultureInfo.InvariantCulture)
        : fallback;
}
