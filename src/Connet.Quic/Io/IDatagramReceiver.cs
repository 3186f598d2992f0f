using System.Net;

namespace Connet.Quic.Io;

/// <summary>Consumes datagrams on the socket's receive thread; must not block for long and must not throw.</summary>
internal interface IDatagramReceiver
{
    /// <summary>
    /// The datagram's buffer is reused after the call returns. Work that answers datagrams (sending) may wait for
    /// <see cref="OnReceiveBatchCompleted"/>, so one answer covers a burst.
    /// </summary>
    void OnDatagram(IPEndPoint remote, Span<byte> datagram);

    /// <summary>No more datagrams are waiting right now: finish what <see cref="OnDatagram"/> deferred.</summary>
    void OnReceiveBatchCompleted();

    /// <summary>The socket failed for good (not for ICMP errors); the receive thread has stopped.</summary>
    void OnSocketFailed(Exception exception);
}
