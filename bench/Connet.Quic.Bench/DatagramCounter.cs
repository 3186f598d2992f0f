using System.Diagnostics.Metrics;

namespace Connet.Quic.Bench;

/// <summary>Counts the stack's datagrams through its public "Connet.Quic" meter, to turn totals into per-packet figures.</summary>
internal sealed class DatagramCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _sent;
    private long _received;

    public DatagramCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Connet.Quic" && instrument.Name is "connet.quic.datagrams_sent" or "connet.quic.datagrams_received")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "connet.quic.datagrams_sent")
            {
                Interlocked.Add(ref _sent, value);
            }
            else
            {
                Interlocked.Add(ref _received, value);
            }
        });
        _listener.Start();
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Received => Interlocked.Read(ref _received);

    public void Dispose() => _listener.Dispose();
}
