using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Connet.Quic.Bench;

/// <summary>
/// Tallies the runtime's allocation-tick events (one per ~100 KB allocated) by type name: a cheap in-process view of
/// which types make up the allocation volume, enabled with --allocations.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new();

    public void Print(int top)
    {
        long total = _bytesByType.Values.Sum();
        foreach ((string type, long bytes) in _bytesByType.OrderByDescending(pair => pair.Value).Take(top))
        {
            Console.WriteLine($"  allocations: {100.0 * bytes / Math.Max(total, 1),5:F1}% {type}");
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
        {
            return;
        }

        int typeIndex = eventData.PayloadNames.IndexOf("TypeName");
        int amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0 || amountIndex < 0)
        {
            return;
        }

        string type = eventData.Payload![typeIndex] as string ?? "?";
        long amount = Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}
