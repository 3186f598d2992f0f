namespace Connet.Quic.Tests.Interop;

/// <summary>Where the node side of the interop harness lives, and whether it is installed.</summary>
internal static class InteropPaths
{
    private const string SolutionFileName = "Connet.sln";

    /// <summary>The folder holding Connet.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>tests/interop: the npm project with the echo scripts; the node processes run here.</summary>
    public static string NodeProjectDirectory => Path.Combine(RepositoryRoot, "tests", "interop");

    /// <summary>
    /// Fails (rather than skips) when the npm packages are missing: a silently skipped interop
    /// suite looks exactly like a passing one.
    /// </summary>
    public static void EnsureNodeModulesInstalled()
    {
        var package = Path.Combine(NodeProjectDirectory, "node_modules", "@matrixai", "quic", "package.json");
        if (!File.Exists(package))
        {
            throw new InvalidOperationException(
                $"The interop peer's npm packages are not installed ({package} is missing). " +
                "Run `bash scripts/test.sh` from the repository root (it runs `npm ci --prefix tests/interop`), " +
                "or run `npm ci --prefix tests/interop` yourself.");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No {SolutionFileName} found in {AppContext.BaseDirectory} or any parent; the interop tests must run from a checkout.");
    }
}
