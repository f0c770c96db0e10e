import { Module } from '@nestjs/common';
import { KeyMaterialGenerator, SecretHasher } from './key-secrets';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { RootKeyController } from './root-key.controller';

@Module({
  controllers: [RootKeyController, KeysController],
  providers: [KeysService, KeyMaterialGenerator, SecretHasher],
  exports: [KeysService],
})
export class KeysModule {}
