using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// One node script from tests/interop as a child process: stdout is read line by line (the
/// scripts' JSON channel), stderr is captured for failure messages, stdin stays open so the
/// script can notice its parent going away, and disposal kills the whole process tree.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder standardError = new();
    private readonly string description;

    private NodeProcess(Process process, string description)
    {
        this.process = process;
        this.description = description;
    }

    public string Description => description;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>What the script has written on stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (standardError)
            {
                return standardError.ToString();
            }
        }
    }

    public static NodeProcess Start(string script, IEnumerable<string> arguments)
    {
        InteropPaths.EnsureNodeModulesInstalled();
        var startInfo = new ProcessStartInfo("node")
        {
            WorkingDirectory = InteropPaths.NodeProjectDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var description = $"node {string.Join(' ', startInfo.ArgumentList)}";
        var process = new Process { StartInfo = startInfo };
        var node = new NodeProcess(process, description);
        process.ErrorDataReceived += node.OnStandardError;
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new NodePeerException($"Cannot start `{description}`: is node on PATH (bash scripts/test.sh installs it)? {e.Message}", e);
        }

        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Next stdout line, or null once the script closed stdout (normally: it exited).</summary>
    public Task<string?> ReadLineAsync(CancellationToken cancellationToken) =>
        process.StandardOutput.ReadLineAsync(cancellationToken).AsTask();

    public Task<string> ReadToEndAsync(CancellationToken cancellationToken) =>
        process.StandardOutput.ReadToEndAsync(cancellationToken);

    /// <summary>Waits for exit and for stderr to be fully captured.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

    /// <summary>A failure message naming the command and quoting its stderr.</summary>
    public string DescribeFailure(string what)
    {
        var exit = process.HasExited ? $" (exit code {process.ExitCode})" : string.Empty;
        var error = StandardError.Trim();
        return $"{what}{exit}: `{description}`" +
            (error.Length == 0 ? " wrote nothing on stderr." : $"{Environment.NewLine}stderr:{Environment.NewLine}{error}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            // Bounded: a killed process is reaped promptly; never hang a test run on teardown.
            using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(reap.Token).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        catch (OperationCanceledException)
        {
            // Left for the OS; the script also exits on its own when its stdin closes below.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void OnStandardError(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        lock (standardError)
        {
            standardError.AppendLine(e.Data);
        }
    }
}
