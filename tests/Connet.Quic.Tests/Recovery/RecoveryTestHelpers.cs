using Connet.Quic.Core;
using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Tests.Recovery;

internal static class RecoveryTestHelpers
{
    public static Instant Ms(double milliseconds) => new((long)Math.Round(milliseconds * 1000));

    public static TimeSpan Span(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    public static SentPacket Packet(ulong number, Instant sent, EncryptionLevel level = EncryptionLevel.OneRtt, int size = 1200, bool ackEliciting = true) =>
        new()
        {
            PacketNumber = number,
            Level = level,
            TimeSent = sent,
            Size = size,
            AckEliciting = ackEliciting,
            InFlight = true,
        };
}
