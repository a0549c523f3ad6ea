#!/usr/bin/env python3
"""CNN features of a folder of images for `charrnn caption train|sample|eval`.

Runs ResNet-18 without its classifier (the 512 averaged channels of its last block) over every
image of a folder, in file-name order, and writes

  OUT                   safetensors holding one tensor "features", [N, 512] float32 (row i: image i)
  --captions-template   JSON lines {"image": i, "file": NAME, "caption": ""}, one per image, to fill
                        in (several lines per image are allowed; the "file" key is ignored by charrnn)

ResNet-18 is written here in plain torch.nn with torchvision's layer and parameter names, so the
script needs torch, safetensors and Pillow but not torchvision, and torchvision's ImageNet weights
(resnet18-f37072fd.pth) load into it unchanged. --weights auto uses them when they are in torch's
hub cache (nothing is downloaded), else random weights from --seed, with a warning: features of an
untrained network still tell images apart, but they are not those of a trained CNN.

Images are read with Pillow (RGB), resized so that the shorter side is --size * 256/224, centre
cropped to --size and normalised with ImageNet's mean and standard deviation, as for torchvision's
pretrained models.

Bad input is one line on stderr and exit status 2.
"""

import argparse
import json
import os
import sys

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm")
PRETRAINED = "resnet18-f37072fd.pth"  # torchvision's ResNet18_Weights.IMAGENET1K_V1 file name


class UserError(Exception):
    pass


def build_resnet18(torch):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        """torchvision.models.resnet18's layers and names; forward returns the pooled [B, 512]."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            inplanes = 64
            for i, (planes, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), start=1):
                setattr(self, "layer%d" % i,
                        nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)))
                inplanes = planes
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 1000)  # the classifier: kept so that torchvision's weights load
            for m in self.modules():  # torchvision's initialisation
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return torch.flatten(self.avgpool(x), 1)

    return ResNet18()


def load_weights(torch, model, choice, seed):
    """Loads the weights --weights names; returns a description for the file's metadata."""
    if choice == "random":
        return "random (seed %d)" % seed
    path = choice
    if choice == "auto":
        path = os.path.join(torch.hub.get_dir(), "checkpoints", PRETRAINED)
        if not os.path.isfile(path):
            print("warning: no pretrained ResNet-18 weights at %s; using randomly initialised weights (seed %d): "
                  "the features are not those of a trained CNN" % (path, seed), file=sys.stderr)
            return "random (seed %d)" % seed
    if not os.path.isfile(path):
        raise UserError("--weights %s: no such file" % path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:  # a file that is not a ResNet-18 state dict
        raise UserError("--weights %s: not torchvision ResNet-18 weights (%s)" % (path, str(e).splitlines()[0]))
    return os.path.basename(path)


def list_images(folder):
    if not os.path.isdir(folder):
        raise UserError("%s is not a folder" % folder)
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(EXTENSIONS))
    if not names:
        raise UserError("%s holds no images (%s)" % (folder, ", ".join(EXTENSIONS)))
    return names


def load_image(torch, Image, path, size):
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            short = round(size * 256 / 224)
            scale = short / min(w, h)
            im = im.resize((max(short, round(w * scale)), max(short, round(h * scale))), Image.BILINEAR)
            w, h = im.size
            left, top = (w - size) // 2, (h - size) // 2
            im = im.crop((left, top, left + size, top + size))
            data = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
    except OSError as e:
        raise UserError("cannot read image %s: %s" % (path, e))
    x = data.view(size, size, 3).permute(2, 0, 1).float() / 255.0
    return (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", help="folder of images (.png, .jpg, ...), taken in file-name order")
    ap.add_argument("--out", required=True, help="features file to write (safetensors, [N, 512] float32)")
    ap.add_argument("--captions-template", help="also write this JSON-lines template, one line per image")
    ap.add_argument("--weights", default="auto",
                    help="auto (torchvision's ImageNet weights from torch's hub cache, else random) | random | "
                         "a .pth state dict of torchvision's resnet18")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    ap.add_argument("--size", type=int, default=224, help="side of the square crop the network sees")
    ap.add_argument("--batch", type=int, default=16, help="images per forward pass")
    args = ap.parse_args(argv)
    try:
        if args.size < 32:
            raise UserError("--size must be >= 32, got %d" % args.size)
        if args.batch < 1:
            raise UserError("--batch must be >= 1, got %d" % args.batch)
        names = list_images(args.images)
        try:
            import torch
            from PIL import Image
            from safetensors.torch import save_file
        except ImportError as e:
            raise UserError("needs torch, safetensors and Pillow (%s)" % e)
        torch.manual_seed(args.seed)
        model = build_resnet18(torch)
        weights = load_weights(torch, model, args.weights, args.seed)
        model.eval()
        rows = []
        with torch.no_grad():
            for i in range(0, len(names), args.batch):
                batch = [load_image(torch, Image, os.path.join(args.images, n), args.size)
                         for n in names[i:i + args.batch]]
                rows.append(model(torch.stack(batch)))
        feats = torch.cat(rows).contiguous()
        meta = {"extractor": "ResNet-18 without its classifier, %dx%d crops" % (args.size, args.size),
                "weights": weights, "images": json.dumps(names)}
        save_file({"features": feats}, args.out, metadata=meta)
        if args.captions_template:
            with open(args.captions_template, "w", encoding="utf-8") as f:
                for i, n in enumerate(names):
                    f.write(json.dumps({"image": i, "file": n, "caption": ""}) + "\n")
        print("wrote %s: %d images x %d features (weights: %s)" % (args.out, feats.shape[0], feats.shape[1], weights))
        return 0
    except (UserError, OSError) as e:
        print("cnn_features.py: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
