using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Connet.NatLab.Tests;

/// <summary>The NAT behaviours a lab router can have (RFC 4787 mapping and filtering, in the classic names).</summary>
public enum NatKind
{
    /// <summary>Endpoint-independent mapping and filtering.</summary>
    FullCone,

    /// <summary>Endpoint-independent mapping, address-dependent filtering.</summary>
    AddressRestricted,

    /// <summary>Endpoint-independent mapping, address-and-port-dependent filtering.</summary>
    PortRestricted,

    /// <summary>Address-and-port-dependent mapping (a new random port per destination) and filtering.</summary>
    Symmetric,
}

public static class NatKinds
{
    public static readonly NatKind[] All = [NatKind.FullCone, NatKind.AddressRestricted, NatKind.PortRestricted, NatKind.Symmetric];

    /// <summary>The name <c>tools/natlab.sh</c> takes (<c>full-cone</c>, ...).</summary>
    public static string ScriptName(this NatKind kind) => kind switch
    {
        NatKind.FullCone => "full-cone",
        NatKind.AddressRestricted => "address-restricted",
        NatKind.PortRestricted => "port-restricted",
        _ => "symmetric",
    };
}

/// <summary>
/// One lab built by <c>tools/natlab.sh</c> (the single definition of the topology) under a prefix unique to this run,
/// <c>nlt&lt;pid&gt;x&lt;random&gt;</c>: namespaces of runs whose process is gone are swept before a new lab is built,
/// so a killed run leaves nothing behind for long. Dispose removes the lab.
/// </summary>
public sealed class NatLab : IDisposable
{
    public const string TestPrefixStart = "nlt";

    public static readonly IPAddress ServerAddress = IPAddress.Parse("198.18.0.1");
    public static readonly IPAddress ObserverAddress = IPAddress.Parse("198.18.0.2");
    public static readonly IPAddress OtherObserverAddress = IPAddress.Parse("198.18.0.3");

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(30);

    private NatLab(string prefix)
    {
        Prefix = prefix;
    }

    public string Prefix { get; }

    public string Internet => Prefix + "-internet";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Script => Path.Combine(RepositoryRoot, "tools", "natlab.sh");

    public static NatLab Create(NatKind natA, NatKind natB)
    {
        SweepStaleLabs();
        var lab = new NatLab(string.Create(CultureInfo.InvariantCulture, $"{TestPrefixStart}{Environment.ProcessId}x{Random.Shared.Next(0x10000):x4}"));
        try
        {
            lab.Run("up", "--nat-a", natA.ScriptName(), "--nat-b", natB.ScriptName());
        }
        catch
        {
            lab.Dispose();
            throw;
        }

        return lab;
    }

    public string Router(char site) => $"{Prefix}-router-{site}";

    public string Host(char site) => $"{Prefix}-host-{site}";

    /// <summary>The host behind router <paramref name="site"/> (10.1.0.2 for a, 10.2.0.2 for b).</summary>
    public static IPAddress HostAddress(char site) => IPAddress.Parse(site == 'a' ? "10.1.0.2" : "10.2.0.2");

    /// <summary>The router's WAN address, what the internet sees of its site (198.18.1.1 for a, 198.18.2.1 for b).</summary>
    public static IPAddress WanAddress(char site) => IPAddress.Parse(site == 'a' ? "198.18.1.1" : "198.18.2.1");

    /// <summary>Switches both routers' NAT kinds and forgets every mapping.</summary>
    public void SetNat(NatKind natA, NatKind natB) => Run("nat", "--nat-a", natA.ScriptName(), "--nat-b", natB.ScriptName());

    public void Dispose()
    {
        try
        {
            Run("down");
        }
        catch (Exception exception) when (exception is IOException or TimeoutException)
        {
            // The next run's sweep removes what is left.
        }
    }

    /// <summary>Removes the namespaces of test labs whose process no longer runs.</summary>
    public static void SweepStaleLabs()
    {
        if (!Directory.Exists("/run/netns"))
        {
            return;
        }

        foreach (string path in Directory.EnumerateFiles("/run/netns", TestPrefixStart + "*"))
        {
            string name = Path.GetFileName(path);
            int separator = name.IndexOf('x', StringComparison.Ordinal);
            int dash = name.IndexOf('-', StringComparison.Ordinal);
            if (separator <= TestPrefixStart.Length || dash < separator
                || !int.TryParse(name.AsSpan(TestPrefixStart.Length, separator - TestPrefixStart.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || Directory.Exists($"/proc/{pid}"))
            {
                continue;
            }

            RunProcess("bash", [Script, "down", "--prefix", name[..dash]]);
        }
    }

    private void Run(params string[] args) => RunProcess("bash", [Script, .. args, "--prefix", Prefix]);

    private static void RunProcess(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new IOException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(ScriptTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {ScriptTimeout}");
        }

        if (process.ExitCode != 0)
        {
            throw new IOException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Connet.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Connet.sln above {AppContext.BaseDirectory}");
    }
}
