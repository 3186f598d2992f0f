using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Connet.NatLab.Tests;

/// <summary>One measured matrix cell: the destination behind router-a, the source behind router-b.</summary>
/// <param name="Path">What the source's status showed: <c>direct</c> or <c>relay</c>.</param>
/// <param name="TimeToDirect">From starting both clients to the source's first direct connection; null without one.</param>
/// <param name="BytesVerified">Bytes that came back byte-identical through the tunnel (0 when the transfer failed).</param>
public sealed record MatrixCell(NatKind Destination, NatKind Source, string Path, TimeSpan? TimeToDirect, long BytesVerified, string Note);

/// <summary>The matrix as measured in this run, written as a Markdown table between marker comments.</summary>
public sealed class MatrixReport
{
    public const string BeginMarker = "<!-- natlab-matrix:begin (written by tests/Connet.NatLab.Tests; reruns replace it) -->";
    public const string EndMarker = "<!-- natlab-matrix:end -->";

    private readonly ConcurrentDictionary<(NatKind, NatKind), MatrixCell> _cells = new();

    public void Record(MatrixCell cell) => _cells[(cell.Destination, cell.Source)] = cell;

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {_cells.Count} of 16 pairings, on {Environment.ProcessorCount} cores.\n\n");
        text.Append("| destination (router-a) | source (router-b) | path | time to first direct connection | bytes verified | note |\n");
        text.Append("|---|---|---|---|---|---|\n");
        foreach (var cell in _cells.Values.OrderBy(cell => cell.Destination).ThenBy(cell => cell.Source))
        {
            string time = cell.TimeToDirect is { } elapsed ? string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.00} s") : "—";
            text.Append(CultureInfo.InvariantCulture, $"| {cell.Destination.ScriptName()} | {cell.Source.ScriptName()} | {cell.Path} | {time} | {cell.BytesVerified:N0} | {cell.Note} |\n");
        }

        return text.ToString();
    }

    /// <summary>Replaces the text between the markers of <paramref name="file"/> (appending them when missing).</summary>
    public void WriteInto(string file)
    {
        if (_cells.IsEmpty)
        {
            return;
        }

        string existing = File.Exists(file) ? File.ReadAllText(file) : "";
        string block = BeginMarker + "\n" + ToMarkdown() + EndMarker;
        int begin = existing.IndexOf(BeginMarker, StringComparison.Ordinal);
        int end = existing.IndexOf(EndMarker, StringComparison.Ordinal);
        string updated = begin >= 0 && end > begin
            ? string.Concat(existing.AsSpan(0, begin), block, existing.AsSpan(end + EndMarker.Length))
            : existing.TrimEnd() + "\n\n" + block + "\n";
        File.WriteAllText(file, updated);
    }
}
