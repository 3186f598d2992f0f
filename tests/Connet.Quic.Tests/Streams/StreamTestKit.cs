using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Tests.Streams;

/// <summary>Wires StreamManagers together the way a connection would, without packets.</summary>
internal static class StreamTestKit
{
    public static readonly StreamLimits DefaultLimits = new(
        MaxData: 1000, MaxStreamDataBidiLocal: 100, MaxStreamDataBidiRemote: 100, MaxStreamDataUni: 100, MaxStreamsBidi: 3, MaxStreamsUni: 2);

    public static (StreamManager Client, StreamManager Server) CreatePair(StreamLimits? clientLimits = null, StreamLimits? serverLimits = null, int sendBufferCapacity = 1 << 20)
    {
        StreamLimits clientLocal = clientLimits ?? DefaultLimits;
        StreamLimits serverLocal = serverLimits ?? DefaultLimits;
        var client = new StreamManager(isClient: true, clientLocal, sendBufferCapacity);
        var server = new StreamManager(isClient: false, serverLocal, sendBufferCapacity);
        client.ApplyPeerLimits(serverLocal);
        server.ApplyPeerLimits(clientLocal);
        return (client, server);
    }

    public static void DeliverControlFrame(StreamManager receiver, in ControlFrame frame)
    {
        switch (frame.Kind)
        {
            case ControlFrameKind.MaxData: receiver.OnMaxData(frame.Value); break;
            case ControlFrameKind.MaxStreamData: receiver.OnMaxStreamData(frame.StreamId, frame.Value); break;
            case ControlFrameKind.MaxStreamsBidi: receiver.OnMaxStreams(true, frame.Value); break;
            case ControlFrameKind.MaxStreamsUni: receiver.OnMaxStreams(false, frame.Value); break;
            case ControlFrameKind.DataBlocked: receiver.OnDataBlocked(frame.Value); break;
            case ControlFrameKind.StreamDataBlocked: receiver.OnStreamDataBlocked(frame.StreamId, frame.Value); break;
            case ControlFrameKind.StreamsBlockedBidi: receiver.OnStreamsBlocked(true, frame.Value); break;
            case ControlFrameKind.StreamsBlockedUni: receiver.OnStreamsBlocked(false, frame.Value); break;
            case ControlFrameKind.ResetStream: receiver.OnResetStream(frame.StreamId, frame.Value, frame.FinalSize); break;
            case ControlFrameKind.StopSending: receiver.OnStopSending(frame.StreamId, frame.Value); break;
        }
    }

    /// <summary>Moves everything sendable from <paramref name="sender"/> to <paramref name="receiver"/>, losslessly, and acknowledges it.</summary>
    public static void Flush(StreamManager sender, StreamManager receiver, int maxLength = 1200)
    {
        while (sender.TryDequeueControlFrame(out ControlFrame frame))
        {
            DeliverControlFrame(receiver, frame);
            sender.OnControlFrameAcked(frame);
        }

        while (sender.TryPeekSend(maxLength, out StreamSendCandidate candidate))
        {
            byte[] data = new byte[candidate.MaxLength];
            sender.CommitSend(candidate, data, candidate.Fin);
            receiver.OnStreamFrame(candidate.StreamId, candidate.Offset, data, candidate.Fin);
            sender.OnStreamDataAcked(candidate.StreamId, candidate.Offset, data.Length, candidate.Fin);
        }
    }

    public static List<ConnectionEvent> DrainEvents(StreamManager manager)
    {
        var events = new List<ConnectionEvent>();
        while (manager.TryDequeueEvent(out ConnectionEvent e))
        {
            events.Add(e);
        }

        return events;
    }

    public static List<ControlFrame> DrainControlFrames(StreamManager manager)
    {
        var frames = new List<ControlFrame>();
        while (manager.TryDequeueControlFrame(out ControlFrame frame))
        {
            frames.Add(frame);
        }

        return frames;
    }

    public static StreamSendCandidate SendNext(StreamManager sender, int maxLength, out byte[] data)
    {
        Assert.True(sender.TryPeekSend(maxLength, out StreamSendCandidate candidate));
        data = new byte[candidate.MaxLength];
        sender.CommitSend(candidate, data, candidate.Fin);
        return candidate;
    }
}
