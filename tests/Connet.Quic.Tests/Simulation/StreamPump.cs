using System.Buffers;
using Connet.Quic.Core.Connection;

namespace Connet.Quic.Tests.Simulation;

/// <summary>Moves a payload through one stream of a simulated pair, writing as the send buffer allows and reading as data arrives.</summary>
internal sealed class StreamPump(Connection writer, Connection reader, long streamId, byte[] payload, IReadOnlyList<ConnectionEvent>? readerEvents = null, IReadOnlyList<ConnectionEvent>? writerEvents = null)
{
    private readonly ArrayBufferWriter<byte> _received = new();
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private int _written;
    private bool _finSent;

    public bool Done { get; private set; }

    public byte[] Received => _received.WrittenSpan.ToArray();

    public long ReceivedLength => _received.WrittenCount;

    public void Pump()
    {
        // A stream a side did not open exists there only once the peer's first frame for it arrived.
        if (writerEvents is not null && !Opened(writerEvents))
        {
            return;
        }

        while (!_finSent)
        {
            int remaining = payload.Length - _written;
            int accepted = writer.WriteStream(streamId, payload.AsSpan(_written), fin: true);
            _written += accepted;
            if (_written == payload.Length && (accepted > 0 || remaining == 0))
            {
                _finSent = true;
            }

            if (accepted == 0)
            {
                break;
            }
        }

        if (readerEvents is not null && !Opened(readerEvents))
        {
            return;
        }

        while (!Done)
        {
            int read = reader.ReadStream(streamId, _readBuffer, out bool fin);
            _received.Write(_readBuffer.AsSpan(0, read));
            if (fin)
            {
                Done = true;
            }

            if (read == 0)
            {
                break;
            }
        }
    }

    private bool Opened(IReadOnlyList<ConnectionEvent> events) =>
        events.Any(e => e.Kind == ConnectionEventKind.StreamOpened && e.StreamId == streamId);
}
